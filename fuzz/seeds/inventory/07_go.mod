module example.com/app

go 1.21

require (
	github.com/gin-gonic/gin v1.9.1
	golang.org/x/net v0.17.0 // indirect
)

require github.com/pkg/errors v0.9.1

replace golang.org/x/net => golang.org/x/net v0.19.0
