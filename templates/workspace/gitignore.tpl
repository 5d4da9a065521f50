node_modules/
.flash/
.env
dist/
.DS_Store
