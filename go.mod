module github.com/msgmock/msgmock

go 1.23

require (
	github.com/brianvoe/gofakeit/v7 v7.18.1
	github.com/fsnotify/fsnotify v1.10.1
	github.com/gorilla/mux v1.8.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.13.0 // indirect
