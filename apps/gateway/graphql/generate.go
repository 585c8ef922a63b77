package graphql

//go:generate go tool gqlgen --config gqlgen.yml
