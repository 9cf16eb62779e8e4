"""The complaint classifier's pure-Python runtime, the one a Lambda function loads.

Nothing is imported here on purpose: ``model`` uses the standard library only. The corpus and
the scikit-learn training that export its model are tools (``gyeonggi_tools.complaints``).
"""
