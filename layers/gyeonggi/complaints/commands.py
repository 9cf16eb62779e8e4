"""``gyeonggi complaints ...``: the classifier's training and inference, volume forecasts.

Each command imports only what it needs: ``classify`` never loads scikit-learn.
"""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    """Dispatch one ``gyeonggi complaints`` command; returns the exit status."""
    if args.command == "train":
        from gyeonggi.complaints.classifier.training import cli_train

        return cli_train(out_dir=args.out, seed=args.seed)
    if args.command == "classify":
        from gyeonggi.complaints.classifier.model import cli_classify

        return cli_classify(sys.stdin, sys.stdout, model_path=args.model)
    from gyeonggi.complaints.forecasting import cli_forecast

    return cli_forecast(history=args.history, horizon=args.horizon, out=args.out)
