from libs.common.audit.cli import main

raise SystemExit(main())
