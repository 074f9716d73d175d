import PTQShell
