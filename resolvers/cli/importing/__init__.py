"""`identity import`: historical orders from a CSV file, through the service's linking rules."""
