"""Batches (`/v1/batches`): OpenAI's JSONL batch format, run by a background worker from one shared queue.

service.BatchService creates, reads and cancels batches; queue.LineQueue is the store-backed queue with
leases; worker.BatchWorker claims lines and runs each through InferenceService like an API call.
"""
