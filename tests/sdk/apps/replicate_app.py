"""replicate: replicate.run (FileOutput), then predictions create / get / wait."""

import hashlib
import json

import replicate


def media(file_output):
    data = file_output.read()
    return {"url": file_output.url, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "type": type(file_output).__name__}


images = replicate.run("black-forest-labs/flux-schnell", input={"prompt": "a lighthouse at dusk"})
prediction = replicate.predictions.create(model="kwaivgi/kling-v2.1", input={"prompt": "waves", "duration": 5})
created = prediction.status
fetched = replicate.predictions.get(prediction.id).status
prediction.wait()
print(json.dumps({
    "run": [media(item) for item in images],
    "prediction": {"id": prediction.id, "created": created, "fetched": fetched, "status": prediction.status,
                   "output": prediction.output},
}))
