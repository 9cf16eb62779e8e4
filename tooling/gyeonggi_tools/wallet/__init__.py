"""The wallet's tools: the holder's CLI wallet and the commands around the verifier."""
