# Copy to .env (never commit .env). flash reads the workspace root's .env, then this folder's.
# RUNPOD_API_KEY=your_api_key_here   # https://docs.runpod.io/get-started/api-keys (only for --target runpod)
# FLASH_HOST=localhost
# FLASH_PORT=8888
# FLASH_LOG_LEVEL=3
