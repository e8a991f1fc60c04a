"""Transport: the shared connection pool, the request path, retries and rate limits.

How one ``client.request()`` runs (``SekoiaClient._request`` drives it; everything it decides
with is pure and tested without an event loop):

1. ``paths`` / ``filters`` build the URL and the query (``match[field]=a,b``...).
2. Wait for the client-wide pause (set by any retryable failure of this client), then for a
   token from the client's and the pool's ``ratelimit.TokenBucket`` (absent limits cost nothing),
   the client's ``max_concurrency``, a pool slot (one per connection) and the buckets' send-time
   check, so that requests that queued for a connection do not leave together.
3. One HTTP exchange through the pool's aiohttp session (``SekoiaClient._send``, the seam):
   redirects are followed only within the base URL's origin.
4. ``retry`` classifies the outcome: success is decoded by ``sekoia_async._json`` (orjson when
   installed); a retryable failure (a JSON body that does not parse included, for idempotent
   requests) sets the client-wide pause (backoff with jitter, or Retry-After) and loops to 2;
   anything else is raised as the typed error of ``sekoia_async.errors``.
"""
