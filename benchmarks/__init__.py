"""`make bench`: cold start, warm overhead, snapshot cost and page-cache latency, each
measured side by side with its baseline in the same run."""
