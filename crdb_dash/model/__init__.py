"""What the product knows: the config, the metric catalog, how metrics are named, the PromQL for each kind of
metric, and the alert table. Imports nothing else of the project; everything else imports it."""
