node_modules/
.env
.env.local
.flash/
dist/
.DS_Store
Thumbs.db
