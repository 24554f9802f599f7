"""The REST API's parts: request/response schemas, the micro-batcher, the
middleware, the app factory, the API client, and a local server for tests and
benchmarks."""
