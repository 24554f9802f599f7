"""Running the model in production: the prediction log, reference profiles,
drift tests and report, spikes, monitoring views, feedback and promotion."""
