"""NeuralCodecs training package: datasets, training loop and export shared by every recipe.

Recipes live in Training/recipes/ (one file per released model); each builds a model, calls
`train.fit` with a dataset from `data`, and `export.export_model` to write Codecs/<model-id>/.
"""
