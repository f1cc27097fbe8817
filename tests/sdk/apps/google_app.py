"""google-genai on the Gemini API: generate_content answering an image."""

import hashlib
import json

from google import genai

client = genai.Client()
response = client.models.generate_content(model="gemini-2.5-flash-image", contents="a lighthouse at dusk")
parts = response.candidates[0].content.parts
image = next(part.inline_data for part in parts if part.inline_data)
print(json.dumps({
    "text": [part.text for part in parts if part.text],
    "image": {"mime_type": image.mime_type, "size": len(image.data), "sha256": hashlib.sha256(image.data).hexdigest()},
}))
