"""The complaint classifier: a generated corpus, scikit-learn training, a pure-Python runtime.

Nothing is imported here on purpose: ``model`` (the runtime, standard library only) is what a
Lambda function loads; ``training`` imports scikit-learn and is for development machines only;
``corpus`` generates the (synthetic) training texts.
"""
