"""pytest plugin (entry point ``sekoia_async``): fixtures ``sekoia_emulator`` and ``sekoia_client``.

PLACEHOLDER owned by the emulator issue.
"""
