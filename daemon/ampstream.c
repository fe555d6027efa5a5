/* ampstream.c: the daemon's main (being written). */
int	main(void);

int
main(void)
{
	return 0;
}
