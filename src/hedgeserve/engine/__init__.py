"""The built-in engine: an OpenAI-compatible server that *emulates* an LLM (no model, no weights).

Pure parts — the approximate tokenizer and deterministic token sequence (`tokens`), stop-string
and length handling per request (`decoding`), the continuous-batching step-time model
(`step_time`), request parsing and response bodies (`openai_requests`, `openai_responses`) — are
free of clocks and I/O. The shells are the asyncio batch loop (`scheduler`), the aiohttp server
(`server`) and the launcher for a real model served by llama.cpp (`real_model`).
"""
