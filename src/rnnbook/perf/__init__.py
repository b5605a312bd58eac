"""What a recurrence costs: FLOP and byte counts, timings, recurrent state against a KV cache.

Layer 7: imports models, kernels and figures (tables); never experiments or analysis.
"""
