"""The engine process and its clients: llama.cpp in one process, API workers reach it over ZeroMQ IPC.

`server.py` runs in the engine process (the models, continuous batching across every worker's
requests); `client.py` is the `Backend` a worker uses in place of `LlamaEngine`; `wire.py` is the
message format both speak; `supervisor.py` starts and restarts the processes for `jaju serve`.
"""
