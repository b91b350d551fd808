from diming.cli import main

main()
