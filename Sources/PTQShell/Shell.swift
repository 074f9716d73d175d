import PTQEngine
