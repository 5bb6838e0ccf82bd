"""The statistical half of intake's classifier (#19): a linear model over jieba tokens and
character n-grams, trained on the labelled corpus kept in `corpus/`, shipped as `model.json.gz`.

`features` turns text into the model's feature names, `model` scores them (pure Python, no
scikit-learn at run time), `corpus` loads the corpus and its group split, `augment` writes the
programmatic variants, `train` fits and exports the model, `evaluate` writes REPORT.md.
"""
