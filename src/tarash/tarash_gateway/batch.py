"""Batches: many generations at once, a concurrency limit, and a result or an error per item.


```python
batch = generate_videos(config, [VideoGenerationRequest(prompt=p) for p in prompts], max_concurrency=4)
for item in batch.results:          # in the order given, whatever order they finished in
    print(item.index, item.status, item.response or item.error)
```

Each item is one ordinary generation through the whole stack, so its fallback chain,
retries, budget, cassette and mock apply to it alone; one item failing never loses the
others. `on_batch_progress` hears of every finished item (with the counts so far),
in the caller's thread or task; an exception it raises stops the batch (items not yet
started are not started) and propagates.

One core, two faces: `_Batch` holds the items, the bookkeeping and the result;
the sync face runs the items on a thread pool of `max_concurrency` workers (each in a
copy of the caller's context: clock, cassette, middleware), the async face as tasks
behind a semaphore.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from .api import _TYPES as TYPES
from .api import _coerce as coerce
from .call import Call, Kind
from .exceptions import ValidationError
from .flow import Emit
from .models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    ImageGenerationResponse,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)
from .stack import GATEWAY

__all__ = [
    "BatchItem",
    "BatchItemResult",
    "BatchProgress",
    "BatchResponse",
    "generate_images",
    "generate_images_async",
    "generate_videos",
    "generate_videos_async",
]

MAX_CONCURRENCY = 50
ConfigT = TypeVar("ConfigT", VideoGenerationConfig, ImageGenerationConfig)
RequestT = TypeVar("RequestT", VideoGenerationRequest, ImageGenerationRequest)
ResponseT = TypeVar("ResponseT", VideoGenerationResponse, ImageGenerationResponse)


@dataclass(frozen=True, slots=True)
class BatchItem(Generic[ConfigT, RequestT]):
    """One request of a batch, with its own config if it should not use the batch's.

    Examples:
        >>> BatchItem(VideoGenerationRequest(prompt="a cat")).config is None
        True
    """

    request: RequestT
    config: ConfigT | None = None


@dataclass(frozen=True, slots=True)
class BatchItemResult(Generic[ResponseT]):
    """The outcome of one item: `completed` with its `response`, or `failed` with its `error`
    (the exception the single call would have raised, `execution_metadata` included)."""

    index: int
    status: Literal["completed", "failed"]
    response: ResponseT | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True, slots=True)
class BatchResponse(Generic[ResponseT]):
    """Every item's result, in the order the items were given."""

    results: list[BatchItemResult[ResponseT]] = field(default_factory=list)
    total: int = 0
    succeeded: int = 0
    failed: int = 0

    @property
    def responses(self) -> list[ResponseT | None]:
        """The response of each item, `None` where it failed."""
        return [r.response for r in self.results]

    @property
    def errors(self) -> dict[int, BaseException]:
        """The error of each failed item, by index."""
        return {r.index: r.error for r in self.results if r.error is not None}


@dataclass(frozen=True, slots=True)
class BatchProgress(Generic[ResponseT]):
    """One item finished: which, how, and how far the batch is."""

    index: int
    item_result: BatchItemResult[ResponseT]
    completed_count: int
    total_count: int


BatchProgressCallback = Callable[[BatchProgress[Any]], Any]


class _Batch:
    """The core both faces share: the items as calls, the results, the progress counts."""

    def __init__(
        self,
        kind: Kind,
        config: Any,
        items: Sequence[Any],
        max_concurrency: int,
        on_item_progress: Callable[[Any], Any] | None,
        on_batch_progress: BatchProgressCallback | None,
    ) -> None:
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or not 1 <= max_concurrency <= MAX_CONCURRENCY:
            raise ValidationError(f"max_concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, got {max_concurrency!r}")
        for name, callback in (("on_item_progress", on_item_progress), ("on_batch_progress", on_batch_progress)):
            if callback is not None and not callable(callback):
                raise ValidationError(f"{name} must be callable, got {type(callback).__name__}")
        if isinstance(items, str | bytes) or not isinstance(items, Sequence):
            raise ValidationError(f"the batch's items must be a list of requests or BatchItems, got {type(items).__name__}")
        config_type, _ = TYPES[kind]
        default = coerce(config, config_type, "config") if config is not None else None
        self.kind = kind
        self.max_concurrency = max_concurrency
        self.on_batch_progress = on_batch_progress
        self.total = len(items)
        self.results: dict[int, BatchItemResult[Any]] = {}
        self.calls: dict[int, Call] = {}
        self.refused: list[int] = []
        for index, item in enumerate(items):
            try:
                self.calls[index] = self._call(item, default, on_item_progress)
            except ValidationError as error:  # this item alone cannot run: its own failed result
                self.results[index] = BatchItemResult(index, "failed", error=error)
                self.refused.append(index)

    def _call(self, item: Any, default: Any, on_progress: Any) -> Call:
        config_type, request_type = TYPES[self.kind]
        config, request = (item.config, item.request) if isinstance(item, BatchItem) else (None, item)
        config = coerce(config, config_type, "config") if config is not None else default
        if config is None:
            raise ValidationError("this batch item has no config, and the batch was given none")
        return Call(kind=self.kind, config=config, request=coerce(request, request_type, "request"), on_progress=on_progress)

    def finish(self, index: int, response: Any, error: BaseException | None) -> BatchProgress[Any]:
        if error is None:
            result: BatchItemResult[Any] = BatchItemResult(index, "completed", response=response)
        else:
            result = BatchItemResult(index, "failed", error=error)
        self.results[index] = result
        return self.progress(index)

    def progress(self, index: int) -> BatchProgress[Any]:
        return BatchProgress(index, self.results[index], len(self.results), self.total)

    def response(self) -> BatchResponse[Any]:
        ordered = [self.results[i] for i in range(self.total)]
        succeeded = sum(r.ok for r in ordered)
        return BatchResponse(ordered, self.total, succeeded, self.total - succeeded)

    def workers(self) -> int:
        return max(min(self.max_concurrency, len(self.calls)), 1)


def _one(call: Call) -> tuple[Any, BaseException | None]:
    try:
        return GATEWAY.handle(call), None
    except Exception as error:  # the item's own failure; the batch goes on
        return None, error


async def _aone(index: int, call: Call, semaphore: asyncio.Semaphore) -> tuple[int, Any, BaseException | None]:
    async with semaphore:
        try:
            return index, await GATEWAY.ahandle(call), None
        except Exception as error:
            return index, None, error


def _run(batch: _Batch) -> BatchResponse[Any]:
    """The sync face: a pool of `max_concurrency` threads; progress in the caller's thread."""
    callback = batch.on_batch_progress
    for index in batch.refused:
        if callback is not None:
            Emit(callback, batch.progress(index)).run()
    pool = ThreadPoolExecutor(max_workers=batch.workers(), thread_name_prefix="tarash-batch")
    try:
        pending: dict[Future[Any], int] = {
            pool.submit(contextvars.copy_context().run, _one, call): index for index, call in batch.calls.items()
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                progress = batch.finish(index, *future.result())
                if callback is not None:
                    Emit(callback, progress).run()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on a raised callback: start no further item
    return batch.response()


async def _arun(batch: _Batch) -> BatchResponse[Any]:
    """The async face: a task per item behind a semaphore; progress in the caller's task."""
    callback = batch.on_batch_progress
    for index in batch.refused:
        if callback is not None:
            await Emit(callback, batch.progress(index)).arun()
    semaphore = asyncio.Semaphore(batch.max_concurrency)
    tasks = [asyncio.ensure_future(_aone(index, call, semaphore)) for index, call in batch.calls.items()]
    try:
        for finished in asyncio.as_completed(tasks):
            index, response, error = await finished
            progress = batch.finish(index, response, error)
            if callback is not None:
                await Emit(callback, progress).arun()
    finally:
        for task in tasks:  # on a raised callback or a cancelled batch: cancel the rest (their jobs too)
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return batch.response()


def generate_videos(
    config: VideoGenerationConfig | None,
    items: Sequence[VideoGenerationRequest | BatchItem[VideoGenerationConfig, VideoGenerationRequest]],
    *,
    max_concurrency: int = 5,
    on_item_progress: Callable[[Any], Any] | None = None,
    on_batch_progress: BatchProgressCallback | None = None,
) -> BatchResponse[VideoGenerationResponse]:
    """Generate many videos, at most `max_concurrency` (1 to 50) at a time.

    Args:
        config: the config of every item that does not bring its own (`BatchItem(request, config)`).
        items: requests (or dicts of their fields), or `BatchItem` objects.
        max_concurrency: how many generations run at once.
        on_item_progress: every item's progress updates, as `generate_video`'s `on_progress`.
        on_batch_progress: called with a `BatchProgress` as each item finishes.

    Returns:
        A `BatchResponse` with one `BatchItemResult` per item, in order.
    """
    return _run(_Batch("video", config, items, max_concurrency, on_item_progress, on_batch_progress))


async def generate_videos_async(
    config: VideoGenerationConfig | None,
    items: Sequence[VideoGenerationRequest | BatchItem[VideoGenerationConfig, VideoGenerationRequest]],
    *,
    max_concurrency: int = 5,
    on_item_progress: Callable[[Any], Any] | None = None,
    on_batch_progress: BatchProgressCallback | None = None,
) -> BatchResponse[VideoGenerationResponse]:
    """The async face of `generate_videos`; async callbacks are awaited."""
    return await _arun(_Batch("video", config, items, max_concurrency, on_item_progress, on_batch_progress))


def generate_images(
    config: ImageGenerationConfig | None,
    items: Sequence[ImageGenerationRequest | BatchItem[ImageGenerationConfig, ImageGenerationRequest]],
    *,
    max_concurrency: int = 5,
    on_item_progress: Callable[[Any], Any] | None = None,
    on_batch_progress: BatchProgressCallback | None = None,
) -> BatchResponse[ImageGenerationResponse]:
    """Generate many images; see `generate_videos`."""
    return _run(_Batch("image", config, items, max_concurrency, on_item_progress, on_batch_progress))


async def generate_images_async(
    config: ImageGenerationConfig | None,
    items: Sequence[ImageGenerationRequest | BatchItem[ImageGenerationConfig, ImageGenerationRequest]],
    *,
    max_concurrency: int = 5,
    on_item_progress: Callable[[Any], Any] | None = None,
    on_batch_progress: BatchProgressCallback | None = None,
) -> BatchResponse[ImageGenerationResponse]:
    """The async face of `generate_images`."""
    return await _arun(_Batch("image", config, items, max_concurrency, on_item_progress, on_batch_progress))
