from lubpur.cli import main

main()
