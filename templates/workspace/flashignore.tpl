# Files flash build leaves out of the deploy artifact (gitignore syntax; .gitignore applies too).
# .env, .git/, .flash/ and node_modules/ are always left out (npm packages the code imports are added from bun.lock).
*.test.ts
*.spec.ts
test-helpers.ts
readme-curl.ts
bench/
coverage/
