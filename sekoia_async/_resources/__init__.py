"""Resources: one module per API domain, thin coroutines over ``SekoiaClient.request``."""
