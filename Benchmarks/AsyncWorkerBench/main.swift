print("async-worker-bench: not yet written")
