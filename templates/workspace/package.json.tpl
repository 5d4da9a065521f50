{
  "name": "{{workspace_name}}",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "workspaces": ["[0-9][0-9]_*/[0-9][0-9]_*"],
  "scripts": {
    "dev": "flash run --watch",
    "test": "flash test",
    "consolidate-deps": "flash deps"
  },
  "dependencies": {},
  "devDependencies": {
    "@types/bun": "{{bun_types_version}}"
  }
}
