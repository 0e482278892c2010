from stockpilot.cli.main import app

app()
