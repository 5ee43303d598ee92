package main

import "github.com/urfave/cli/v3"

func enqueueCommand() *cli.Command   { return &cli.Command{Name: "enqueue", Hidden: true} }
func preflightCommand() *cli.Command { return &cli.Command{Name: "preflight", Hidden: true} }
