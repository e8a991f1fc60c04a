"""A faithful local emulator of the Sekoia.io API, for tests, benchmarks and demos.

PLACEHOLDER owned by the emulator issue.
"""
