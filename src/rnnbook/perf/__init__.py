"""What a recurrence costs: FLOP and byte counts, timings (paired, with their spread), recurrent
state against a KV cache.

Layer 7: imports tasks, models, kernels and figures (tables); never experiments or analysis.
"""
