from containers_tool.cli.main import main

raise SystemExit(main())
