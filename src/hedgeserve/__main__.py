from hedgeserve.cli.app import main

main()
