from stockpilot.cli.main import main

main()
