"""The CCTV registry's administration commands (``gyeonggi cctv``)."""
