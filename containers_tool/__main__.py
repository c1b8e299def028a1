from containers_tool.cli import main

raise SystemExit(main())
