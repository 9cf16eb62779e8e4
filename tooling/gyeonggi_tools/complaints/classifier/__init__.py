"""The classifier's generated corpus and its scikit-learn training.

The exported model's pure-Python runtime is the domain's ``gyeonggi.complaints.classifier.model``.
"""
