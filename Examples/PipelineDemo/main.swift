print("pipeline-demo: not yet written")
