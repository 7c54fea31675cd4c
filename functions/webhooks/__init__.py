"""Events out: webhook configuration, fan-out of agents' events, and their signed delivery."""
