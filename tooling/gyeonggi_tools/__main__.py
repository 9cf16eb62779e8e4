"""``python -m gyeonggi_tools ...``: the ``gyeonggi`` command without the installed script."""

from gyeonggi_tools.cli import main

raise SystemExit(main())
