"""Transport: the shared connection pool, the request path, retries and rate limits."""
