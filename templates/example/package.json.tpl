{
  "name": "{{package_name}}",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "description": "{{title}}: GPU and CPU remote functions served by flash",
  "scripts": {
    "dev": "{{flash_command}} run --watch",
    "test": "{{flash_command}} test ."
  },
  "dependencies": {}
}
