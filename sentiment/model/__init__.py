"""Text in, probabilities out: normalisation, features, the pipeline, the
predictor, explanations, model files and their cards."""
