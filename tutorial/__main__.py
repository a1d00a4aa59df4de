from tutorial.cli import main

raise SystemExit(main())
