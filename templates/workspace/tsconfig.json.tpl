{
  "compilerOptions": {
    "target": "ESNext",
    "module": "Preserve",
    "moduleResolution": "bundler",
    "lib": ["ESNext", "DOM"],
    "types": ["bun"],
    "strict": true,
    "skipLibCheck": true,
    "allowImportingTsExtensions": true,
    "noEmit": true,
    "baseUrl": ".",
    "paths": {
      "flash": ["./.flash/runtime"],
      "elysia": ["./.flash/runtime/types/node_modules/elysia"]
    }
  },
  "exclude": ["node_modules", ".flash", "dist"]
}
