# Copy to .env (never commit .env). flash reads the workspace root's .env; this folder's .env is added for this example's remote functions only (not its routes). Under --watch a saved .env reloads.
# RUNPOD_API_KEY=your_api_key_here   # https://docs.runpod.io/get-started/api-keys (only for --target runpod)
# FLASH_HOST=localhost
# FLASH_PORT=8888
# FLASH_LOG_LEVEL=3
