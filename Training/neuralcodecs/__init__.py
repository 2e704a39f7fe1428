"""NeuralCodecs training package: datasets, training loop and export shared by every recipe.

Recipes live in Training/recipes/ (one file per released model); each builds a model, calls
`train.fit` with a dataset from `data`, and `export` (`dest_from_args`, `export_model`, `model_card`)
to write Training/exports/<export-id>/<model-id>/, or the released Codecs/<model-id>/ on --replace.
"""
